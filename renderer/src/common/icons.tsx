// Small inline icons (SVG, no icon font: the CSP allows no remote fonts, and
// emoji glyphs are missing on many Linux desktops).

const common = {
  width: 16,
  height: 16,
  viewBox: '0 0 16 16',
  fill: 'none',
  stroke: 'currentColor',
  strokeWidth: 1.5,
  strokeLinecap: 'round' as const,
  strokeLinejoin: 'round' as const,
  'aria-hidden': true,
};

export function PencilIcon() {
  return (
    <svg {...common}>
      <path d="M11 2.5l2.5 2.5L6 12.5 3 13l.5-3L11 2.5z" />
    </svg>
  );
}

export function TrashIcon() {
  return (
    <svg {...common}>
      <path d="M2.5 4h11M6 4V2.5h4V4M4 4l.7 9.5h6.6L12 4M6.5 6.5v5M9.5 6.5v5" />
    </svg>
  );
}

export function PointCloudIcon() {
  return (
    <svg width={56} height={56} viewBox="0 0 16 16" fill="currentColor" aria-hidden>
      {[
        [3, 10],
        [5, 7],
        [7, 9],
        [8, 5],
        [10, 8],
        [12, 6],
        [6, 12],
        [9, 11],
        [11, 10.5],
        [4, 5],
      ].map(([cx, cy]) => (
        <circle key={`${cx},${cy}`} cx={cx} cy={cy} r={0.8} />
      ))}
    </svg>
  );
}
