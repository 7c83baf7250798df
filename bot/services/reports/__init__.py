"""Reports: quarterly evaluations (每季一评), annual awards, monthly rates, XLSX/CSV writers."""
