"""Deadline reminders: when they fall (working hours, holidays) and who receives them."""
