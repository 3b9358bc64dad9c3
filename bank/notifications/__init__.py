"""Notifications for what cannot wait (issue 20): a late result after release, a donor look-back, a custody
excursion, a dose due tomorrow and not allocated, an account locked. Each is shown in the application
(unread marked) and e-mailed through the configured SMTP server to the users who chose it; every e-mail
sent or failed is recorded (bank.notifications.models.Delivery)."""
