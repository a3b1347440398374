{%- from "mesos/map.jinja" import mesos with context %}
{#- The user the app's tasks run as (Marathon's mesos_user, the one the masters' run_tasks ACL
    allows). The agent gives it each task's sandbox; the Docker containerizer still runs the
    container's process as the image's USER, not as this user. A system user without a login
    shell or a home, and no fixed uid: 1000 is often a person's on a real host. #}
mesos-task-group-present:
  group.present:
    - name: {{ mesos.task_user }}
    - system: true

mesos-task-user-present:
  user.present:
    - name: {{ mesos.task_user }}
    - gid: {{ mesos.task_user }}
    - system: true
    - shell: /usr/sbin/nologin
    - home: /nonexistent
    - createhome: false
    - require:
      - group: mesos-task-group-present
