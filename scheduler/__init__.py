"""The scheduler: review-deadline reminders and lapses on APScheduler, one leader per database."""
