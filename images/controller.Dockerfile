# The controller image: `wvo serve` (control API) and `wvo proxy` (data plane) run from it as
# separate processes. Same generated-context layout and layer order as worker.Dockerfile (all
# production deps, all of dist/, plus images/ so the controller can build worker images).
# Runs read-only with a tmpfs /tmp; compose mounts the Docker socket.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

ENV NODE_ENV=production \
    WVO_STATE_ROOT=/state
WORKDIR /app
USER 1000:1000
EXPOSE 8080 7070
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WVO_API_PORT||7070)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/controller/src/cli/main.js"]
CMD ["serve"]
LABEL org.opencontainers.image.title="wvo-controller" \
      org.opencontainers.image.description="WVO controller and proxy" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/wvo/wvo" \
      wvo.image-kind="controller"

ADD node_modules.tar /app/
COPY package.json /app/package.json
COPY --chown=1000:1000 state /state
COPY images /app/images

ARG WVO_VERSION=dev
ARG WVO_REVISION=unknown
ARG WVO_CREATED=unknown
LABEL wvo.version="${WVO_VERSION}" \
      org.opencontainers.image.version="${WVO_VERSION}" \
      org.opencontainers.image.revision="${WVO_REVISION}" \
      org.opencontainers.image.created="${WVO_CREATED}"
COPY dist /app/dist
