"""A bare viewflow flow of the same shape as the Lotse step the workflow
benchmark measures: a human task completed, a gateway, a timer scheduled.

No case, no service, no audit: only viewflow with its own PostgreSQL lock
(`select_for_update_lock`), as viewflow's documentation recommends.
"""

from datetime import timedelta

from viewflow import this
from viewflow.workflow import flow, lock


class BareFlow(flow.Flow):
    """Bare step"""

    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.task)
    task = flow.View(lambda request: None).Assign(this.owner).Next(this.route)
    route = flow.Switch().Case(this.wait, lambda activation: True).Default(this.end)
    wait = flow.Timer(timedelta(days=180)).Next(this.end)
    end = flow.End()

    def start_process(self, activation, owner):
        activation.process.data = {"owner": owner.pk}
        return activation.process

    def owner(self, activation):
        from accounts.models import User

        return User.objects.get(pk=activation.process.data["owner"])
