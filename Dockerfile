# The container form of the function, for `kpt fn render` pipelines that use `image:`
# and for kustomize's containerized functions. The exec form needs no image.
# Base images are pinned by digest (the tag beside it says which release it was):
# golang:1.26.8 is the Go the repository is tested with. Bump tag and digest together.
FROM golang:1.26.8@sha256:2dbae744204892730b7032501f5973360ce57cfe118a194b338a97b5aa2d40cc AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY config/ config/
COPY fn/ fn/
# The version stamped on rendered objects (aggapi.dev/version): --build-arg VERSION=v0.1.0.
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/aggapi/aggapi/fn/version.stamped=${VERSION}" -o /out/aggapi ./fn/cmd/aggapi

FROM gcr.io/distroless/static:nonroot@sha256:e2e927ec666bae08560abb3c55d0659eceabb657f56b6782ab500a9fc7f555e3
COPY --from=build /out/aggapi /usr/local/bin/aggapi
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/aggapi"]
