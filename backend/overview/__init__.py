"""Aggregated views for the dashboard: the caseload table and the supervisor's team overview."""
