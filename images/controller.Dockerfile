# The controller image: `wvo serve` (control API) and `wvo proxy` (data plane) run from it as
# separate processes. Same generated-context layout as worker.Dockerfile (all production deps,
# all of dist/). Runs read-only with a tmpfs /tmp; the Docker socket is mounted by compose.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

ENV NODE_ENV=production \
    WVO_STATE_ROOT=/state
WORKDIR /app

# node_modules.tar is one generated archive (cached by the lockfile); ADD unpacks it into /app/node_modules.
ADD node_modules.tar /app/
COPY package.json /app/package.json
COPY --chown=1000:1000 state /state
COPY images /app/images
COPY dist /app/dist

USER 1000:1000
EXPOSE 8080 7070
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WVO_API_PORT||7070)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/controller/src/cli/main.js"]
CMD ["serve"]

LABEL org.opencontainers.image.title="wvo-controller" \
      org.opencontainers.image.description="WVO controller and proxy" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/wvo/wvo"
ARG WVO_VERSION=dev
LABEL wvo.version="${WVO_VERSION}" org.opencontainers.image.version="${WVO_VERSION}"
