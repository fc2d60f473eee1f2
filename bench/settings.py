"""Settings for `make bench`: Lotse's settings plus the bench app, whose
bare viewflow flow is the floor of the workflow benchmark."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
