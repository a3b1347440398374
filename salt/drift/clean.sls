{%- from "drift/map.jinja" import drift with context %}

drift-check-not-scheduled:
  schedule.absent:
    - name: {{ drift.schedule.name }}
    - persist: true
