"""The help desk's and product team's report over the subscriptions opened in a period: the funnel
of the four steps, time to each, where help was asked and how fast it came, the reminders and what
they brought back, the ratings. Read as a stream of each subscription's facts (`Store.report_facts`:
kept up to date by the events themselves, see `facts`), tallied in bounded memory."""

from flows.report.facts import FactsRow, ReportFacts
from flows.report.period import Period, period_from
from flows.report.tally import Tally, report

__all__ = ["FactsRow", "Period", "ReportFacts", "Tally", "period_from", "report"]
