from reports.models import DailyReport, ReportStatus
from services.exceptions import Conflict, NotFound


class ReportNotReady(Conflict):
    code = "report_not_ready"
    message = "The report is not generated yet; follow its task."


def daily_report_get(*, report_id: int) -> DailyReport:
    try:
        return DailyReport.objects.get(pk=report_id)
    except DailyReport.DoesNotExist:
        raise NotFound("No such report.") from None


def daily_report_ready(*, report_id: int) -> DailyReport:
    report = daily_report_get(report_id=report_id)
    if report.status != ReportStatus.READY:
        raise ReportNotReady(field="status")
    return report
