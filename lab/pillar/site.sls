# The lab's site pillar: lab/lab.py installs it as this master's .salt/pillar/site.sls, where
# a production site keeps its own. It is data only: the formulas are production's.
platform:
  # Components' `lab:` blocks (pillar/components.sls) apply while this is set.
  site: lab

mesos:
  # The lab's signed apt repository, built by lab/lab.py from lab/packages and served from the
  # master's address on the lab network (platform:master_ip): vendor-layout packages with the
  # Mesos/Marathon stand-in (lab/standin) behind them, at these versions.
  repo: deb [signed-by=/etc/apt/keyrings/platform-lab.gpg] http://192.168.33.1:8089 bookworm main
  repo_key_url: http://192.168.33.1:8089/platform-lab.gpg
  version: 1.11.0-0.10.0.debian12~lab1

marathon:
  version: 1.11.24-1.debian9~lab1

registrator:
  # The lab's registrator is the stand-in image of lab/salt/registrator-standin, built on the
  # image builder (images:builds:registrator below) and pushed under the name production pulls
  # into the registry, platform/registrator:<version>; every node then runs it from there with
  # salt/registrator/container.sls, the production definition.
  image_source: build
  version: v7

images:
  builds:
    registrator:
      # On the lab's second file root (lab/salt), which lab/lab.py adds to the master's.
      context: salt://registrator-standin/image
      binary: null
