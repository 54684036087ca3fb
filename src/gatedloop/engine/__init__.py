"""What runs around the jobs: warm start of local jobs, stale-lock clearing, and the failed-run summary. The
workflow reaches it through ``workflow/rules/hooks.smk``."""
