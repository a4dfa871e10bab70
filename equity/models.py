"""Device equity: models, devices, assignments, events, students and home connectivity."""
