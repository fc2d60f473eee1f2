"""The ORM floor of the core benchmark: a plain Django model with a
django-fsm-2 state field and one audit row per transition, the least an
ORM application with a state machine and an audit trail writes.

Unmanaged and without migrations: `bench.__main__.orm_floor` creates the
two tables for the run and drops them after it.
"""

from django.db import models
from django_fsm import FSMField, transition


class FloorCase(models.Model):
    status = FSMField(default="ACTIVE", protected=True)
    paused_at = models.DateTimeField(null=True)
    changed_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bench_orm_case"

    def __str__(self) -> str:
        return f"bench case {self.pk}"

    @transition(field=status, source="ACTIVE", target="DORMANT")
    def pause(self, *, at):
        self.paused_at = at
        self.changed_at = at

    @transition(field=status, source="DORMANT", target="ACTIVE")
    def resume(self, *, at):
        self.paused_at = None
        self.changed_at = at


class FloorEvent(models.Model):
    case = models.ForeignKey(FloorCase, on_delete=models.CASCADE, db_constraint=False)
    occurred_at = models.DateTimeField()
    transition = models.CharField(max_length=50)
    from_state = models.CharField(max_length=30)
    to_state = models.CharField(max_length=30)
    data = models.JSONField(default=dict)

    class Meta:
        managed = False
        db_table = "bench_orm_event"

    def __str__(self) -> str:
        return f"bench event {self.pk}"
