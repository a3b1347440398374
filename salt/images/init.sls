{#- Not part of the highstate: the orchestration runner applies it on the image-builder node,
    after the registry serves and the master has built the binaries (salt://artifacts/). #}
include:
  - .base
  - .registrator
  - .lb
  - .app
