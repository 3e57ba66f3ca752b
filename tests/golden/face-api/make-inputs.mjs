// make-inputs.mjs: decode the face-api demo photos with jpeg-js and write
// them as 8-bit RGB PNGs (colour type 2, no alpha) for the C tests.
//
// Usage: node make-inputs.mjs [--demo DIR] [--out DIR] [--node-dir DIR]
//   --demo      folder holding sample1..6.jpg
//               (default $CACHE/face-api-1.7.15/demo)
//   --out       output folder (default $CACHE/test-inputs)
//   --node-dir  scratch npm folder holding node_modules/{jpeg-js,pngjs}
//               (default $GOLDEN_NODE_DIR or $CACHE/node-golden)
// CACHE = ${AFFECT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-affect}
//
// jpeg-js ignores EXIF orientation: pixels are written as stored, exactly as
// the reference face-api run decoded them. The PNG bytes depend on the zlib
// in use, the pixels do not: compare the printed rgb_sha256 (sha256 of the
// raw H*W*3 RGB bytes, row-major) rather than the PNG file hash.

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function cacheDir () {
  if (process.env.AFFECT_CACHE_DIR) return process.env.AFFECT_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'gst-affect');
}

function parseArgs (argv) {
  const cache = cacheDir();
  const args = {
    demo: path.join(cache, 'face-api-1.7.15', 'demo'),
    out: path.join(cache, 'test-inputs'),
    nodeDir: process.env.GOLDEN_NODE_DIR || path.join(cache, 'node-golden'),
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--demo' && v) { args.demo = v; i++; } else if (a === '--out' && v) {
      args.out = v; i++;
    } else if (a === '--node-dir' && v) { args.nodeDir = v; i++; } else {
      throw new Error(`unknown or incomplete argument '${a}'`);
    }
  }
  return args;
}

function main () {
  const args = parseArgs(process.argv);
  const req = createRequire(path.join(path.resolve(args.nodeDir), 'package.json'));
  const jpeg = req('jpeg-js');
  const { PNG } = req('pngjs');

  for (let n = 1; n <= 6; n++) {
    const src = path.join(args.demo, `sample${n}.jpg`);
    if (!fs.existsSync(src)) {
      throw new Error(`${src}: missing; run models/face/fetch-face-models.sh (affect-fetch-models) first`);
    }
  }
  fs.mkdirSync(args.out, { recursive: true });
  for (let n = 1; n <= 6; n++) {
    const src = path.join(args.demo, `sample${n}.jpg`);
    const img = jpeg.decode(fs.readFileSync(src), {
      useTArray: true, formatAsRGBA: false, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024,
    });
    const { width, height, data } = img;
    if (data.length !== width * height * 3) {
      throw new Error(`${src}: decoder returned ${data.length} bytes for ${width}x${height} RGB`);
    }
    const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
    png.data = Buffer.from(data.buffer, data.byteOffset, data.length);
    const bytes = PNG.sync.write(png, {
      colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8,
    });

    // Read back and make sure the PNG holds exactly the decoded pixels.
    const back = PNG.sync.read(bytes);
    const rgba = back.data;
    for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
      if (rgba[j] !== data[i] || rgba[j + 1] !== data[i + 1] || rgba[j + 2] !== data[i + 2]) {
        throw new Error(`sample${n}.png: read-back mismatch at byte ${i}`);
      }
    }
    const dst = path.join(args.out, `sample${n}.png`);
    const tmp = `${dst}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, dst);
    const sha = createHash('sha256').update(data).digest('hex');
    console.log(`${dst} ${width}x${height} rgb_sha256=${sha}`);
  }
}

try {
  main();
} catch (e) {
  console.error(`make-inputs: ${e.message}`);
  process.exit(1);
}
