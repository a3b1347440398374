# The demo app (Notejam) and how `salt-run app.deploy` runs it in each environment.
# Read by the images formula (the build), the lb formula (the Consul service it routes) and
# the app runner (the Marathon app). Environments themselves are platform:environments.
app:
  name: notejam
  # Tag of the image that `app.deploy` builds from salt://app/image and deploys when no
  # version is given. Bump it when the app's sources change: an existing tag is never rebuilt.
  version: "1.0.4"
  # Consul service registrator registers each instance as, tagged with its environment;
  # the load balancers route app-<env> to its passing instances.
  service: app
  container_port: 8000
  # Per instance; Marathon places instances only where these fit.
  cpus: 0.1
  mem: 128
  # Marathon's health check, which gates each step of a rolling deploy.
  health:
    path: /health
    grace_period_seconds: 20
    interval_seconds: 2
    timeout_seconds: 2
    max_consecutive_failures: 3
  # On SIGTERM an instance keeps serving this long, until every load balancer routes to its
  # replacements (Consul's check, then consul-template's wait), then finishes its requests.
  drain_seconds: 5
  # SIGTERM, then this long (drain included) before SIGKILL.
  kill_grace_period_seconds: 10
  # Each environment's session key (site.secrets generates it) is a file on its own agents,
  # <secret_dir>/<env>/secret_key (app formula), bound read-only into its instances at
  # secret_mount: never an environment variable, which Marathon's API would show.
  secret_dir: /etc/platform-app
  secret_mount: /run/secrets/notejam
  # Consul's copy of the check (registrator's SERVICE_CHECK_*), which gates the LB upstreams.
  consul_check_interval: 1s
  # A deploy that is not served by the load balancers within this many seconds is rolled back.
  deploy_timeout: 180
  # Instances per environment when app.deploy is given no `instances`.
  environments:
    test:
      instances: 2
    production:
      instances: 2
