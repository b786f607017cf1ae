// The glTF document for a point cloud, built with @gltf-transform/core:
//   scene "G2 Studio scene"
//     node "points"       mesh with one POINTS primitive: POSITION (float32 vec3,
//                         with min/max) and COLOR_0 (linear, normalized uint16
//                         vec3: color-space.ts says why)
//     node "camera-<i>"   one per camera: a perspective camera, TRS from
//                         worldFromCamera (axes.ts explains the conversion)
// Everything is converted from OpenCV world axes to glTF axes here. An empty
// cloud gets no mesh (glTF accessors need at least one element).

import { Accessor, Document, Primitive, type mat4, type Node, type Scene } from '@gltf-transform/core';
import type { CameraInfo } from '../../common/domain';
import { gltfCameraMatrix, rotateX180InPlace } from './axes';
import { SRGB_BYTE_TO_LINEAR_U16 } from './color-space';
import type { PointCloud } from './point-cloud';

/** Near plane for exported cameras (glTF requires one); in scene units. */
const CAMERA_ZNEAR = 0.01;
/** Vertical field of view used when a camera has no intrinsics. */
const DEFAULT_YFOV = (60 * Math.PI) / 180;

/** glTF positions for the cloud: a converted copy (the engine's array is left as it is). */
export function gltfPositions(cloud: PointCloud): Float32Array {
  const positions = cloud.positions.slice(0, cloud.count * 3);
  rotateX180InPlace(positions);
  return positions;
}

/** The cloud's sRGB colour bytes as glTF's linear COLOR_0, normalized uint16. */
export function linearColorsU16(srgb: Uint8Array): Uint16Array {
  const linear = new Uint16Array(srgb.length);
  for (let i = 0; i < srgb.length; i++) linear[i] = SRGB_BYTE_TO_LINEAR_U16[srgb[i]];
  return linear;
}

export function buildPointCloudDocument(
  cloud: PointCloud,
  cameras: CameraInfo[] = [],
  positions: Float32Array = gltfPositions(cloud),
): Document {
  const doc = new Document();
  doc.getRoot().getAsset().generator = 'G2 Studio';
  const scene = doc.createScene('G2 Studio scene');

  if (cloud.count > 0) addPointsMesh(doc, scene, cloud, positions);
  for (const info of cameras) scene.addChild(cameraNode(doc, info));
  return doc;
}

function addPointsMesh(doc: Document, scene: Scene, cloud: PointCloud, positions: Float32Array): void {
  const buffer = doc.createBuffer('points');
  const position = doc
    .createAccessor('POSITION')
    .setType(Accessor.Type.VEC3)
    .setArray(positions)
    .setBuffer(buffer);
  const primitive = doc.createPrimitive().setMode(Primitive.Mode.POINTS).setAttribute('POSITION', position);
  if (cloud.colors) {
    const color = doc
      .createAccessor('COLOR_0')
      .setType(Accessor.Type.VEC3)
      .setArray(linearColorsU16(cloud.colors.subarray(0, cloud.count * 3)))
      .setNormalized(true)
      .setBuffer(buffer);
    primitive.setAttribute('COLOR_0', color);
  }
  const mesh = doc.createMesh('points').addPrimitive(primitive);
  scene.addChild(doc.createNode('points').setMesh(mesh));
}

function cameraNode(doc: Document, info: CameraInfo): Node {
  const camera = doc.createCamera(`camera-${info.frameIndex}`).setType('perspective').setZNear(CAMERA_ZNEAR);
  const k = info.intrinsics;
  if (k && k.fy > 0 && k.fx > 0 && k.width > 0 && k.height > 0) {
    camera.setYFov(2 * Math.atan(k.height / (2 * k.fy)));
    // Horizontal extent over vertical extent at unit depth (square pixels give width/height).
    camera.setAspectRatio(k.width / k.fx / (k.height / k.fy));
  } else {
    camera.setYFov(DEFAULT_YFOV);
  }
  return doc
    .createNode(`camera-${info.frameIndex}`)
    .setCamera(camera)
    .setMatrix(gltfCameraMatrix(info.worldFromCamera) as mat4)
    .setExtras({ frameIndex: info.frameIndex, frameId: info.frameId, intrinsics: info.intrinsics });
}
