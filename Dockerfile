# Pathway Hub: pathwayhub (server, dashboards generator) and pathwayctl
# (simulator, submit) in one small image. ClickHouse is not included: the
# hub points --clickhouse at a ClickHouse server (compose.yaml runs one).

FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/pathwayhub ./cmd/pathwayhub \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/pathwayctl ./cmd/pathwayctl

FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && adduser -D -H -u 10001 pathwayhub
COPY --from=build /out/pathwayhub /out/pathwayctl /usr/local/bin/
COPY policy/agreements /etc/pathwayhub/agreements
USER pathwayhub
EXPOSE 8080
ENTRYPOINT ["pathwayhub"]
# Plaintext on all interfaces of the container: run it behind a proxy that
# terminates TLS, or give --tls-cert and --tls-key instead.
CMD ["serve", "--listen", "0.0.0.0:8080", "--insecure-plaintext", "--agreements", "/etc/pathwayhub/agreements/london"]
