# What runs around the jobs (gatedloop.engine.hooks): the jobs' interpreter on PATH, stale locks of a killed run
# cleared, the run recorded as the locks' holder, warm start of local jobs, and the last words of a failed run.
from gatedloop.engine import hooks


envvars:
    "PATH",


hooks.before_jobs(workflow)


onstart:
    hooks.on_start(workflow, warm_start=config["warm_start"])


onsuccess:
    hooks.on_success(workflow)


onerror:
    hooks.on_error(workflow)
