# Amber as an edge container: the `dist/amber` binary that CI built and tested (bun
# build --compile, see .ci/run) on a slim glibc base. No build stage on purpose: the
# image ships exactly the tested binary. Build it first: `deno task compile:bun`, then
# `docker build -t amber .`; run: `docker run -p 6379:6379 -v amber-data:/data amber`.
#
# The binary needs glibc >= 2.17 only (ldd: libc, libpthread, libdl, libm).
FROM debian:bookworm-slim

RUN groupadd --system amber && useradd --system --gid amber --home-dir /data amber \
    && mkdir /data && chown amber:amber /data

COPY dist/amber /usr/local/bin/amber

# dump.rdb lives here; a volume keeps it across container restarts.
VOLUME /data
WORKDIR /data
USER amber
EXPOSE 6379

# Exec form: amber is PID 1 and receives `docker stop`'s SIGTERM itself; it saves the
# RDB before exiting when save points are configured (the default ones are). Allow the
# save time: `docker stop -t 60` (or stop_grace_period) for large datasets.
ENTRYPOINT ["/usr/local/bin/amber"]
# Replaceable defaults (a config file, if given, must come first, as for redis-server).
# Protected mode is off because connections arrive through Docker's network, never from
# loopback, as in the official redis image; set --requirepass before exposing the port.
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
