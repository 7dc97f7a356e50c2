# The worker image (one container per lane). Built by `wvo images build` from a generated context:
# Dockerfile, package.json, state/ (empty), node_modules.tar (the production deps the worker
# imports, installed on the host) and dist/{common,worker}. No RUN steps: the offline base has no
# shell. Run it as the controller does: --read-only --tmpfs /tmp -v STATE:/state
# (controller/src/runtime/docker/container-spec.ts).
#
# Layer order is for rebuild speed: every metadata step first, then dependencies (change rarely),
# then the code (changes on every build). A code-only change rebuilds only the last two steps.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

ENV NODE_ENV=production \
    WVO_STATE_ROOT=/state \
    WVO_HOST=0.0.0.0 \
    WVO_PORT=8080
WORKDIR /app
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WVO_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/worker/src/main.js"]
CMD ["serve"]
LABEL org.opencontainers.image.title="wvo-worker" \
      org.opencontainers.image.description="WVO worker: the MCP orchestrator one lane runs" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/wvo/wvo" \
      wvo.image-kind="worker"

# node_modules.tar is one generated archive (cached by the lockfile); ADD unpacks it into /app/node_modules.
ADD node_modules.tar /app/
COPY package.json /app/package.json
COPY --chown=1000:1000 state /state

# Set per build by wvo (package version, git revision, build time).
ARG WVO_VERSION=dev
ARG WVO_REVISION=unknown
ARG WVO_CREATED=unknown
LABEL wvo.version="${WVO_VERSION}" \
      org.opencontainers.image.version="${WVO_VERSION}" \
      org.opencontainers.image.revision="${WVO_REVISION}" \
      org.opencontainers.image.created="${WVO_CREATED}"
COPY dist /app/dist
