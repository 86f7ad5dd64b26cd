"""What leaves Rapport: a client's FHIR bundle and printable report, caseload CSVs."""
