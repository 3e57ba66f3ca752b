// make-golden.mjs: golden reference outputs from the ORIGINAL JavaScript
// face-api (@vladmandic/face-api 1.7.15, tfjs 4.22.0, pure-JS CPU backend).
//
// Usage: node make-golden.mjs [--inputs DIR] [--models DIR] [--out DIR]
//                             [--node-dir DIR] [--only N[,N...]]
//   --inputs    folder with sample1..6.png from make-inputs.mjs
//               (default $CACHE/test-inputs)
//   --models    folder with the tfjs manifests + .bin files
//               (default $CACHE/face-api-1.7.15/model)
//   --out       where sampleN.json (and tensors-sample1.json) go
//               (default: the folder holding this script)
//   --node-dir  scratch npm folder of `prepare.sh --full`
//               (default $GOLDEN_NODE_DIR or $CACHE/node-golden)
//   --only      comma separated sample numbers (default 1,2,3,4,5,6)
// CACHE = ${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
//
// For every image the official high-level pipeline is run
//   detectAllFaces(img, SsdMobilenetv1Options{0.5, 100})
//     .withFaceLandmarks().withFaceExpressions().withAgeAndGender()
//     .withFaceDescriptors()
// plus detectAllFaces(img, TinyFaceDetectorOptions{416, 0.5}). Then every
// face is recomputed step by step through face-api's own building blocks
// (extractFaceTensors, runNet, faceFeatureExtractor.forwardInput, ...) to
// expose the raw landmark output, the pooled 256-d features and the integer
// crop boxes; the step-by-step results must equal the pipeline's bit for bit,
// otherwise the script fails. The format is described in README.md.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXPRESSION_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];

function cacheDir () {
  if (process.env.AFFECT_CACHE_DIR) return process.env.AFFECT_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'gst-affect');
}

function parseArgs (argv) {
  const cache = cacheDir();
  const args = {
    inputs: path.join(cache, 'test-inputs'),
    models: path.join(cache, 'face-api-1.7.15', 'model'),
    out: path.dirname(fileURLToPath(import.meta.url)),
    nodeDir: process.env.GOLDEN_NODE_DIR || path.join(cache, 'node-golden'),
    only: [1, 2, 3, 4, 5, 6],
  };
  const keys = { '--inputs': 'inputs', '--models': 'models', '--out': 'out', '--node-dir': 'nodeDir' };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`argument '${a}' needs a value`);
    if (a in keys) {
      args[keys[a]] = v;
    } else if (a === '--only') {
      args.only = v.split(',').map((s) => Number.parseInt(s, 10));
      if (args.only.some((n) => !(n >= 1 && n <= 6))) throw new Error(`--only: bad list '${v}'`);
    } else {
      throw new Error(`unknown argument '${a}'`);
    }
    i++;
  }
  return args;
}

// ---------------------------------------------------------------------------
// Small helpers

const toArray = (typed) => Array.from(typed, (v) => v); // JS doubles of float32 values
const boxArray = (b) => [b.x, b.y, b.width, b.height];

function maxAbsDiff (a, b) {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function requireExact (what, a, b) {
  const d = maxAbsDiff(a, b);
  if (d !== 0) throw new Error(`${what}: step-by-step result differs from the face-api pipeline (max |d| = ${d})`);
}

// y = x W (+ b) in double precision; W is row-major [in, out].
function denseDouble (x, w, b, nIn, nOut) {
  const y = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < nIn; i++) s += x[i] * w[i * nOut + o];
    y[o] = s;
  }
  return y;
}

function softmaxDouble (v) {
  const m = Math.max(...v);
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, c) => a + c, 0);
  return e.map((x) => x / s);
}

function tensorSummary (values, shape) {
  let sum = 0; let sumAbs = 0; let min = Infinity; let max = -Infinity;
  for (const v of values) {
    sum += v; sumAbs += Math.abs(v);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // mid64: 64 values from the centre pixel (row h/2, column w/2) onwards.
  const [, h, w, c] = shape;
  const mid = (Math.floor(h / 2) * w + Math.floor(w / 2)) * c;
  return {
    shape,
    layout: 'NHWC row-major',
    sum,
    sum_abs: sumAbs,
    min,
    max,
    first64: toArray(values.subarray(0, 64)),
    mid64_offset: mid,
    mid64: toArray(values.subarray(mid, mid + 64)),
  };
}

function sha256File (p) {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

// JSON with objects indented but numeric arrays kept on one line.
function formatJson (value, indent = '') {
  const next = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => next + formatJson(v, next)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${next}${JSON.stringify(k)}: ${formatJson(v, next)}`).join(',\n')}\n${indent}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`non-finite number ${value} in output`);
  return JSON.stringify(value);
}

function writeJson (file, obj) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${formatJson(obj)}\n`);
  fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------------------

async function main () {
  const args = parseArgs(process.argv);
  const nodeDir = path.resolve(args.nodeDir);
  const req = createRequire(path.join(nodeDir, 'package.json'));
  const { PNG } = req('pngjs');
  const faceapi = req('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const { tf } = faceapi;
  const pkgVersion = (name) => JSON.parse(fs.readFileSync(path.join(nodeDir, 'node_modules', name, 'package.json'), 'utf8')).version;

  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`backend is ${tf.getBackend()}, expected cpu`);

  // Capture hook: wrap a few CPU kernels so that, while `capture.on` is set,
  // the inputs of every call are recorded (used for the recognition net's
  // 256-d feature, which face-api does not expose, and for the normalised
  // network input tensors of tensors-sample1.json).
  const capture = { on: false, records: [] };
  for (const name of ['BatchMatMul', 'Conv2D', 'FusedConv2D']) {
    const orig = tf.getKernel(name, 'cpu');
    if (!orig) continue;
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({
      ...orig,
      kernelFunc: (kargs) => {
        if (capture.on) {
          const inputs = {};
          for (const [k, t] of Object.entries(kargs.inputs)) {
            if (t) inputs[k] = { shape: t.shape.slice(), values: Float32Array.from(kargs.backend.readSync(t.dataId)) };
          }
          capture.records.push({ kernel: name, inputs });
        }
        return orig.kernelFunc(kargs);
      },
    });
  }
  const captured = async (fn) => {
    capture.records = [];
    capture.on = true;
    try {
      return { result: await fn(), records: capture.records };
    } finally {
      capture.on = false;
      capture.records = [];
    }
  };

  const { nets } = faceapi;
  for (const [net, name] of [[nets.tinyFaceDetector, 'tiny_face_detector_model'], [nets.ssdMobilenetv1, 'ssd_mobilenetv1_model'],
    [nets.faceLandmark68Net, 'face_landmark_68_model'], [nets.faceExpressionNet, 'face_expression_model'],
    [nets.ageGenderNet, 'age_gender_model'], [nets.faceRecognitionNet, 'face_recognition_model']]) {
    const manifest = path.join(args.models, `${name}-weights_manifest.json`);
    if (!fs.existsSync(manifest)) throw new Error(`${manifest}: missing (run models/face/fetch-face-models.sh or prepare.sh first)`);
    await net.loadFromDisk(args.models);
  }
  const modelSha = {};
  for (const f of fs.readdirSync(args.models).filter((f) => f.endsWith('.bin')).sort()) modelSha[f] = sha256File(path.join(args.models, f));

  const expFc = {
    w: nets.faceExpressionNet.params.fc.weights.dataSync(), b: nets.faceExpressionNet.params.fc.bias.dataSync(),
  };
  const lmFc = {
    w: nets.faceLandmark68Net.params.fc.weights.dataSync(), b: nets.faceLandmark68Net.params.fc.bias.dataSync(),
  };
  const recFc = nets.faceRecognitionNet.params.fc.dataSync();
  if (expFc.w.length !== 256 * 7 || lmFc.w.length !== 256 * 136 || recFc.length !== 256 * 128) throw new Error('unexpected fc weight sizes');

  const versions = {
    'face-api': faceapi.version,
    tfjs: tf.version.tfjs,
    'tfjs-core': tf.version_core,
    backend: tf.getBackend(),
    node: process.version,
    'jpeg-js': pkgVersion('jpeg-js'),
    pngjs: pkgVersion('pngjs'),
    model_sha256: modelSha,
  };
  const tinyOpts = new faceapi.TinyFaceDetectorOptions();
  const ssdOpts = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });
  const options = {
    tiny: { inputSize: tinyOpts.inputSize, scoreThreshold: tinyOpts.scoreThreshold },
    ssd: { minConfidence: ssdOpts.minConfidence, maxResults: ssdOpts.maxResults },
  };
  console.log(`face-api ${versions['face-api']} tfjs ${versions.tfjs} backend ${versions.backend} node ${versions.node}`);

  for (const n of args.only) {
    const t0 = Date.now();
    const pngPath = path.join(args.inputs, `sample${n}.png`);
    if (!fs.existsSync(pngPath)) throw new Error(`${pngPath}: missing (run prepare.sh first)`);
    const png = PNG.sync.read(fs.readFileSync(pngPath));
    const W = png.width; const H = png.height;
    const rgb = new Uint8Array(W * H * 3);
    for (let i = 0, j = 0; j < png.data.length; i += 3, j += 4) {
      rgb[i] = png.data[j]; rgb[i + 1] = png.data[j + 1]; rgb[i + 2] = png.data[j + 2];
    }
    const rgbSha = createHash('sha256').update(rgb).digest('hex');
    const img = tf.tensor3d(Int32Array.from(rgb), [H, W, 3], 'int32');
    const wantTensors = n === 1;
    const tensors = {};

    // --- detectors (official API)
    // (the kernel capture is only switched on where the records are needed)
    const maybeCaptured = (fn) => (wantTensors ? captured(fn) : (async () => ({ result: await fn(), records: [] }))());
    const { result: tinyDets, records: tinyRec } = await maybeCaptured(() => faceapi.detectAllFaces(img, tinyOpts));
    const tiny = tinyDets.map((d) => ({ box: boxArray(d.box), score: d.score }));
    if (wantTensors) {
      const c = tinyRec.find((r) => r.kernel.includes('Conv2D'));
      tensors.tiny_input = tensorSummary(c.inputs.x.values, c.inputs.x.shape);
    }
    const { result: results, records: ssdRec } = await maybeCaptured(() => faceapi.detectAllFaces(img, ssdOpts)
      .withFaceLandmarks().withFaceExpressions().withAgeAndGender().withFaceDescriptors());
    if (wantTensors) {
      const c = ssdRec.find((r) => r.kernel.includes('Conv2D'));
      tensors.ssd_input = tensorSummary(c.inputs.x.values, c.inputs.x.shape);
    }
    const ssd = results.map((r) => ({ box: boxArray(r.detection.box), score: r.detection.score }));
    const checks = {
      landmarks_fc_max_abs: 0,
      landmarks_formula_max_abs_px: 0,
      expression_fc_softmax_max_abs: 0,
      descriptor_fc_max_abs: 0,
      step_by_step_equals_pipeline: true,
    };

    // --- per-face, step by step through face-api's building blocks
    const faces = [];
    for (const [fi, r] of results.entries()) {
      const face = {};
      const firstConvInput = (recs) => recs.find((x) => x.kernel.includes('Conv2D')).inputs.x;

      // Landmarks: crop = detection box (clip + floor), net -> raw 136.
      const lmBox = r.detection.forSize(W, H).box.clipAtImageBorders(W, H);
      const [lmFace] = await faceapi.extractFaceTensors(img, [r.detection]);
      if (lmFace.shape[0] !== lmBox.height || lmFace.shape[1] !== lmBox.width) throw new Error('landmark crop size mismatch');
      const lmIn = await faceapi.toNetInput(lmFace);
      const { result: rawT, records: lmRec } = await captured(() => nets.faceLandmark68Net.runNet(lmIn));
      const raw = rawT.dataSync();
      const relT = nets.faceLandmark68Net.postProcess(rawT, 112, [{ width: lmBox.width, height: lmBox.height }]);
      const rel = relT.dataSync();
      const mine = new faceapi.FaceLandmarks68(
        Array.from({ length: 68 }, (_, i) => new faceapi.Point(rel[2 * i], rel[2 * i + 1])),
        { width: lmBox.width, height: lmBox.height },
      ).shiftBy(r.detection.box.x, r.detection.box.y);
      const official = r.landmarks.positions.flatMap((p) => [p.x, p.y]);
      requireExact(`sample${n} face ${fi} landmarks`, mine.positions.flatMap((p) => [p.x, p.y]), official);
      // Independent post-processing formula (FACE_MODELS.md) in double.
      {
        const s = 112 / Math.max(lmBox.width, lmBox.height);
        const ws = lmBox.width * s; const hs = lmBox.height * s;
        const padX = ws < hs ? (hs - ws) / 2 : 0; const padY = hs < ws ? (ws - hs) / 2 : 0;
        const f = [];
        for (let i = 0; i < 68; i++) {
          f.push((raw[2 * i] * 112 - padX) / ws * lmBox.width + r.detection.box.x);
          f.push((raw[2 * i + 1] * 112 - padY) / hs * lmBox.height + r.detection.box.y);
        }
        checks.landmarks_formula_max_abs_px = Math.max(checks.landmarks_formula_max_abs_px, maxAbsDiff(f, official));
      }
      const lmMm = lmRec.filter((x) => x.kernel === 'BatchMatMul');
      if (lmMm.length !== 1 || lmMm[0].inputs.a.values.length !== 256) throw new Error('could not capture the landmark feature');
      const lmFeat = lmMm[0].inputs.a.values;
      checks.landmarks_fc_max_abs = Math.max(checks.landmarks_fc_max_abs, maxAbsDiff(denseDouble(lmFeat, lmFc.w, lmFc.b, 256, 136), raw));
      face.landmark_crop = boxArray(lmBox);
      face.landmarks = r.landmarks.positions.map((p) => [p.x, p.y]);
      face.landmarks_raw = toArray(raw);
      face.landmark_feature = toArray(lmFeat);
      if (wantTensors && fi === 0) {
        const x = firstConvInput(lmRec);
        tensors.landmark_input = tensorSummary(x.values, x.shape);
      }
      tf.dispose([lmFace, rawT, relT]);

      // Expression: crop = alignedRect (landmark bbox + 20 %), pooled feature, FC, softmax.
      const exBox = r.alignedRect.forSize(W, H).box.clipAtImageBorders(W, H);
      const [exFace] = await faceapi.extractFaceTensors(img, [r.alignedRect]);
      const exIn = await faceapi.toNetInput(exFace);
      const { result: featT, records: exRec } = await captured(() => nets.faceExpressionNet.faceFeatureExtractor.forwardInput(exIn));
      if (featT.size !== 256) throw new Error('expression feature is not 256-d');
      const probsT = tf.tidy(() => tf.softmax(nets.faceExpressionNet.runNet(featT)));
      const feat = featT.dataSync(); const probs = probsT.dataSync();
      requireExact(`sample${n} face ${fi} expression`, probs, EXPRESSION_LABELS.map((l) => r.expressions[l]));
      checks.expression_fc_softmax_max_abs = Math.max(checks.expression_fc_softmax_max_abs,
        maxAbsDiff(softmaxDouble(denseDouble(feat, expFc.w, expFc.b, 256, 7)), probs));
      face.aligned_rect = boxArray(r.alignedRect.box);
      face.expression_crop = boxArray(exBox);
      face.expression = toArray(probs);
      face.expression_feature = toArray(feat);
      if (wantTensors && fi === 0) {
        const x = firstConvInput(exRec);
        tensors.expression_input = tensorSummary(x.values, x.shape);
      }
      tf.dispose([exFace, featT, probsT]);

      // Age / gender (pipeline values only; same crop as the expression net).
      face.age = r.age;
      face.gender = r.gender;
      face.gender_probability = r.genderProbability;

      // Descriptor: crop = dlib-style rect; capture the input of the final matMul.
      const dRect = r.landmarks.align(null, { useDlibAlignment: true });
      const dBox = dRect.clipAtImageBorders(W, H);
      const [dFace] = await faceapi.extractFaceTensors(img, [dRect]);
      const { result: desc, records: dRec } = await captured(() => nets.faceRecognitionNet.computeFaceDescriptor(dFace));
      requireExact(`sample${n} face ${fi} descriptor`, desc, r.descriptor);
      const mm = dRec.filter((x) => x.kernel === 'BatchMatMul');
      if (mm.length !== 1 || mm[0].inputs.a.values.length !== 256) throw new Error('could not capture the recognition feature');
      const recFeat = mm[0].inputs.a.values;
      checks.descriptor_fc_max_abs = Math.max(checks.descriptor_fc_max_abs, maxAbsDiff(denseDouble(recFeat, recFc, null, 256, 128), desc));
      face.descriptor_rect = boxArray(dRect);
      face.descriptor_crop = boxArray(dBox);
      face.descriptor = toArray(desc);
      face.recognition_feature = toArray(recFeat);
      if (wantTensors && fi === 0) {
        const x = firstConvInput(dRec);
        tensors.recognition_input = tensorSummary(x.values, x.shape);
      }
      tf.dispose(dFace);
      faces.push(face);
    }
    tf.dispose(img);

    const out = {
      image: `sample${n}.png`, width: W, height: H, rgb_sha256: rgbSha, versions, options, tiny, ssd, faces, checks,
    };
    writeJson(path.join(args.out, `sample${n}.json`), out);
    if (wantTensors) {
      writeJson(path.join(args.out, 'tensors-sample1.json'), {
        image: 'sample1.png',
        rgb_sha256: rgbSha,
        note: 'First inputs of the first convolution of each net (the normalised network input); face nets: first SSD face',
        ...tensors,
      });
    }
    const top = faces.map((f) => {
      const i = f.expression.indexOf(Math.max(...f.expression));
      return `${EXPRESSION_LABELS[i]} ${f.expression[i].toFixed(2)} ${f.gender[0]}${Math.round(f.age)}`;
    });
    console.log(`sample${n}: ${W}x${H} tiny ${tiny.length} ssd ${ssd.length} | ${top.join(', ')} | `
      + `checks lmfc ${checks.landmarks_fc_max_abs.toExponential(2)} lm ${checks.landmarks_formula_max_abs_px.toExponential(2)} exp ${checks.expression_fc_softmax_max_abs.toExponential(2)} `
      + `desc ${checks.descriptor_fc_max_abs.toExponential(2)} | ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main().catch((e) => {
  console.error(`make-golden: ${process.env.GOLDEN_DEBUG ? e.stack : e.message}`);
  process.exit(1);
});
