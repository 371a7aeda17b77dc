# The container form of the function, for `kpt fn render` pipelines that use `image:`
# and for kustomize's containerized functions. The exec form needs no image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY config/ config/
COPY fn/ fn/
# The version stamped on rendered objects (aggapi.dev/version): --build-arg VERSION=v0.1.0.
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/aggapi/aggapi/fn/version.stamped=${VERSION}" -o /out/aggapi ./fn/cmd/aggapi

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/aggapi /usr/local/bin/aggapi
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/aggapi"]
