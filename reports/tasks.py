"""The daily report (seed 003 `generate_daily_report`): run by beat for yesterday, or on a staff request."""

from celery import Task, shared_task

from messaging.worker import OutboxTask
from services.reports import daily_report_fail, daily_report_generate, daily_report_prepare, yesterday


@shared_task(bind=True, max_retries=3)
def generate_daily_report(self: Task, *, report_id: int | None = None) -> dict:
    """Progress (`done` of `total` steps) is reported as the STARTED state's meta."""
    task_id = str(self.request.id)
    if report_id is None:  # beat: yesterday's report
        report_id = daily_report_prepare(day=yesterday(), task_id=task_id).pk

    def progress(done: int, total: int) -> None:
        self.update_state(state="STARTED", meta={"done": done, "total": total})

    try:
        report = daily_report_generate(report_id=report_id, task_id=task_id, progress=progress)
    except Exception as exc:
        will_retry = isinstance(exc, OutboxTask.autoretry_for) and self.request.retries < (
            self.max_retries or 0
        )
        if not will_retry:
            daily_report_fail(report_id=report_id, task_id=task_id)
        raise
    return {"report_id": report.pk, "date": report.date.isoformat(), "status": report.status}
