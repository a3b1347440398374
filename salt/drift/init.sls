{%- from "drift/map.jinja" import drift with context %}
{%- set schedule = drift.schedule %}
{%- if schedule.enabled %}

drift-check-scheduled:
  schedule.present:
    - name: {{ schedule.name }}
    - function: state.apply
    - job_kwargs:
        test: true
        # Wait for a state run in progress rather than report it as a failure.
        queue: true
    - minutes: {{ schedule.minutes }}
    - splay: {{ schedule.splay }}
    - return_job: true
    # The first check comes one interval after the schedule is set, not during the
    # highstate that sets it.
    - run_on_start: false
    - persist: true
{%- else %}

drift-check-not-scheduled:
  schedule.absent:
    - name: {{ schedule.name }}
    - persist: true
{%- endif %}
