// Package faces runs face-api's pretrained networks (npm @vladmandic/face-api
// 1.7.15, MIT) in pure Go (no cgo): face detection, 68-point landmarks and
// 128-d face descriptors, matching the JavaScript reference (tfjs 4.22 cpu
// backend) to float32 rounding. The port follows shared/faces/SPEC.md
// section by section; shared/testdata/faces holds the goldens the tests use.
//
// Files and the spec sections they implement:
//   - models.go: Install (fetch the pinned npm tarball through the registry's
//     version document, check dist.integrity against the pinned sha512 SRI and
//     the downloaded bytes against it, unpack only package/model/* plain files
//     into a temp dir and rename it into place) and Find (names every missing
//     manifest/shard).
//   - preprocess.go: pixels (ToRGB = img.At(x,y).RGBA()>>8, exactly how the
//     goldens decoded the JPEGs) and §2 toBatchTensor: zero pad to a square
//     (bottom/right for detectors, centred with round(diff/2) after for the
//     face nets), tfjs resizeBilinear without half-pixel centres in float64,
//     float32 normalisation; computeReshapedDimensions; clipAtImageBorders+floor.
//   - tiny.go: §3 TinyFaceDetector: net, box decoding with the five anchors,
//     NMS at IoU 0.4 on boxes scaled by inputSize, pixels = relative × (W, H).
//   - ssd.go: §4 SsdMobilenetv1 at 512: MobileNetV1 with the unfolded depthwise
//     batch norm (float64 per element as tfjs), six box predictors, stored
//     anchors (Output/extra_dim), decoding, NMS at IoU 0.5, locateFaces mapping.
//   - landmarks.go: §5 FaceLandmark68Net (dense blocks, sums nested as face-api)
//     with its decode quirks (shift by the unfloored, unclipped box origin;
//     symmetric-padding assumption) and §6 the descriptor crop (axis-aligned
//     square from eye/mouth centres, no rotation).
//   - recognition.go: §7 FaceRecognitionNet, dlib's ResNet (conv + bias, scale
//     layer, relu; residualDown zero-pads o spatially and p in channels),
//     mean pool, fc without bias. Descriptors are not L2-normalised.
//   - align.go: not in face-api. AlignFace and Options.Align cut the
//     recognition net's input the way dlib cut the chips its ResNet was
//     trained on: the least-squares similarity transform (rotation, uniform
//     scale, translation; closed form on centred points) that maps the
//     nose, eye and upper-lip landmarks (27–54, 60–64, dlib's choice) onto a
//     canonical mean face placed in a 150×150 chip with padding 0.25 (the
//     template's unit-wide bounding box shrunk to 1/1.5 of the chip, a
//     quarter of its width of margin on each side), then a warp of the RGB
//     image: each chip pixel averages ceil(scale)² bilinear samples over its
//     footprint (area-aware when the face is much larger than the chip;
//     black outside the image), then the usual normalisation. The mean face
//     is computed, not copied: the Procrustes mean of this package's
//     landmarks on the shared test faces, symmetrised (TestMeanFace).
//     The aligned descriptor is the mean of the chip's and its mirror
//     image's. Aligned descriptors carry the detector name with an "a"
//     suffix ("tiny416a") and must not be compared with unaligned ones. On
//     the 15 single-person test photos the ROC AUC of centred cosine
//     distance rises from 0.77 to 0.79 with the chip, 0.81 with its mirror
//     (L2: 0.58 to 0.63, 0.66); TestAlignEval
//     (SHOEBOX_FACE_EVAL=1) prints the figures for several variants.
//   - faces.go: the API. Load(dir) reads the models (SSD if its files are
//     present); Models.Detect(img) is face-api's
//     detectAllFaces(img, TinyFaceDetectorOptions{416}).withFaceLandmarks().withFaceDescriptors();
//     DetectRGB takes Options (tiny input size, SSD, thresholds, Align,
//     PadRetry: detect again on a copy with a mean-colour border when
//     nothing is found, boxes and landmarks mapped back; DetectPadded).
//     Faces whose
//     landmark or descriptor crop is empty are skipped (face-api would
//     misalign descriptors there). Distance and MatchThreshold (0.6) compare
//     descriptors.
//
// Tensor kernels (weight manifests, im2col+GEMM convolution, pooling) live in
// subpackage nn. Each net serialises its own forward passes (one mutex and
// workspace per net), so a *Models can be shared by goroutines.
package faces
