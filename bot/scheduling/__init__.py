"""The scheduler: a repeating job that derives reminders, expiries and shortages."""

from bot.scheduling.jobs import SCAN_JOB_NAME, log_jobs_stopped, schedule_scans
from bot.scheduling.work import ScanCounts, run_scheduled_work

__all__ = [
    "SCAN_JOB_NAME",
    "ScanCounts",
    "log_jobs_stopped",
    "run_scheduled_work",
    "schedule_scans",
]
