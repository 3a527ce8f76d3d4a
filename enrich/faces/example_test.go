package faces_test

import (
	"context"
	"fmt"
	"image/jpeg"
	"os"

	"shoebox/enrich/faces"
)

// Install the pinned models once, load them, and compare two photos.
func Example() {
	dir := "/var/cache/shoebox/face-api-" + faces.PackageVersion
	if err := faces.Install(context.Background(), faces.DefaultRegistry, dir, nil); err != nil {
		fmt.Println(err)
		return
	}
	m, err := faces.Load(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	var found [][]faces.Face
	for _, name := range []string{"a.jpg", "b.jpg"} {
		f, err := os.Open(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fs, err := m.Detect(img) // TinyFaceDetector 416 + landmarks + descriptors
		if err != nil {
			fmt.Println(err)
			return
		}
		found = append(found, fs)
	}
	for _, a := range found[0] {
		for _, b := range found[1] {
			d := faces.Distance(&a.Descriptor, &b.Descriptor)
			fmt.Printf("%v vs %v: distance %.2f, same person: %v\n", a.Box, b.Box, d, d < faces.MatchThreshold)
		}
	}
}
