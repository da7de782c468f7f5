"""One English word, three Chinese states: each model's "Submitted" reads as its own trade calls it."""

from django.utils import translation

from wangge.demands.models import State
from wangge.onestop.models import AppState
from wangge.projects.models import ReportState


def test_submitted_reads_as_each_trade_says_it():
    with translation.override("zh-hans"):
        assert str(ReportState.SUBMITTED.label) == "待审核"  # a progress report awaits the city's check
        assert str(AppState.SUBMITTED.label) == "待受理"  # an application awaits the window
        assert str(State.SUBMITTED.label) == "待接单"  # a demand awaits its grid leader
