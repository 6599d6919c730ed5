"""Deadline reminders and notices: when they fall (working time), who gets them (the plan), what each says."""
