package main

import "shoebox/davfs/web"

// The JSON API's types, as the tests decode them (the API lives in
// davfs/web).
type (
	apiObject = web.Object
	apiStatus = web.Status
)
