// Where the viewer's camera is, and when it moves on its own. It is placed for
// a view preset when the user asks (Fit, Top, Front, Side) and once when a
// cloud is first shown; nothing else moves it. A scale changes only labels,
// so the camera stays. A levelling (or undoing one) moves the scene inside the
// view: the camera moves with it, so the same point stays under the orbit
// centre at the same distance, and only the roll changes: the scene stands
// upright where the user was looking.

import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import { Euler, Matrix4, PerspectiveCamera, type Box3, type Vector3 } from 'three';
import { THREE_FROM_OPENCV_EULER } from './opencv-axes';
import { alignmentMatrix } from './tools/levelled-world';
import { placementFor, type ViewRequest } from './view-presets';

interface OrbitLike {
  target: Vector3;
  update(): void;
}

const THREE_FROM_OPENCV = new Matrix4().makeRotationFromEuler(new Euler(...THREE_FROM_OPENCV_EULER));

/**
 * The move that keeps a camera on the same stored points when the scene's
 * levelling goes from `before` to `after` (row-major levelledFromScene, null =
 * none): the viewer shows a stored point p at flip · alignment · p, so the
 * move is flip · after · before⁻¹ · flip⁻¹, in three.js world coordinates.
 */
export function levellingMove(before: readonly number[] | null, after: readonly number[] | null): Matrix4 {
  return THREE_FROM_OPENCV.clone()
    .multiply(alignmentMatrix(after))
    .multiply(alignmentMatrix(before).invert())
    .multiply(THREE_FROM_OPENCV.clone().invert());
}

const sameAlignment = (a: readonly number[] | null, b: readonly number[] | null): boolean =>
  a === b || (!!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]));

interface ViewCameraProps {
  /** The scene's extent in three.js coordinates, levelled (null while unknown). */
  box: Box3 | null;
  /** The preset to apply; a new request applies it again. */
  request: ViewRequest;
  /** What is shown (scene and points): a new one is framed once. Not the scale, not the levelling. */
  fitKey: string;
  /** The scene's ground alignment as drawn. */
  alignment: readonly number[] | null;
}

export function ViewCamera({ box, request, fitKey, alignment }: ViewCameraProps) {
  // Read the store inside the effect: the camera is three.js state we move, not React state.
  const getState = useThree((state) => state.get);
  const placed = useRef<{ request: ViewRequest; fitKey: string } | null>(null);
  const shownAlignment = useRef(alignment);
  useEffect(() => {
    const { camera, invalidate } = getState();
    const controls = getState().controls as unknown as OrbitLike | null;
    if (!(camera instanceof PerspectiveCamera)) return;
    const before = shownAlignment.current;
    shownAlignment.current = alignment;
    const place = !placed.current || placed.current.request !== request || placed.current.fitKey !== fitKey;
    if (place) {
      if (!box) return; // placed as soon as there is something to frame
      placed.current = { request, fitKey };
      const placement = placementFor(box, request.preset, camera.fov, camera.aspect);
      camera.position.copy(placement.position);
      camera.near = placement.near;
      camera.far = placement.far;
      camera.lookAt(placement.target);
      camera.updateProjectionMatrix();
      if (controls) {
        controls.target.copy(placement.target);
        controls.update();
      }
    } else if (!sameAlignment(before, alignment) && controls) {
      const move = levellingMove(before, alignment);
      camera.position.applyMatrix4(move);
      controls.target.applyMatrix4(move);
      // Up stays +y: the orbit keeps turning about the (new) vertical.
      camera.lookAt(controls.target);
      controls.update();
    } else {
      return;
    }
    invalidate();
  }, [box, request, fitKey, alignment, getState]);
  return null;
}

/**
 * Writes the camera's position and orbit centre (three.js coordinates) on the
 * canvas as data-camera after every frame, for the browser tests to read, as
 * they read data-view and data-grid.
 */
export function CameraReadout() {
  const getState = useThree((state) => state.get);
  useFrame(() => {
    const { camera, gl } = getState();
    const controls = getState().controls as unknown as OrbitLike | null;
    const round = (v: number) => Number(v.toPrecision(9));
    gl.domElement.dataset.camera = JSON.stringify({
      position: camera.position.toArray().map(round),
      target: controls ? controls.target.toArray().map(round) : null,
    });
  });
  return null;
}
