"""The staff task dashboard (/admin/dashboard/): a page of the admin, rendered on the server."""

from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from services.selectors.dashboard import HourFigures, dashboard_get

CHART_HEIGHT = 120
BAR_WIDTH = 20
BAR_GAP = 4


@dataclass(frozen=True)
class Bar:
    """One hour of the chart: its succeeded part stacked on its failed part, in SVG units."""

    x: int
    label: str
    failed_y: float
    failed_height: float
    succeeded_y: float
    succeeded_height: float
    title: str


def hourly_bars(hours: list[HourFigures]) -> list[Bar]:
    tallest = max((h.succeeded + h.failed for h in hours), default=0) or 1
    scale = CHART_HEIGHT / tallest
    bars = []
    for n, hour in enumerate(hours):
        failed, succeeded = hour.failed * scale, hour.succeeded * scale
        bars.append(
            Bar(
                x=n * (BAR_WIDTH + BAR_GAP),
                label=hour.hour.strftime("%H:00") if n % 6 == 0 else "",
                failed_y=CHART_HEIGHT - failed,
                failed_height=failed,
                succeeded_y=CHART_HEIGHT - failed - succeeded,
                succeeded_height=succeeded,
                title=f"{hour.hour:%H:00}: {hour.succeeded} succeeded, {hour.failed} failed",
            )
        )
    return bars


def task_dashboard(request: HttpRequest) -> HttpResponse:
    dashboard = dashboard_get()
    context = {
        **admin.site.each_context(request),
        "title": "Task dashboard",
        "is_nav_sidebar_enabled": False,  # a page of figures: the models list adds nothing here
        "dashboard": dashboard,
        "bars": hourly_bars(dashboard.hours),
        "chart_width": len(dashboard.hours) * (BAR_WIDTH + BAR_GAP),
        "chart_height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
    }
    return render(request, "operations/dashboard.html", context)
