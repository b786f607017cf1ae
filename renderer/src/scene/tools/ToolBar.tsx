import { TOOL_MODES, type ToolMode } from './tool-modes';

interface ToolBarProps {
  mode: ToolMode;
  /** The cloud is drawn (every tool but Orbit needs it). */
  hasCloud: boolean;
  /** The scene has a reconstruction (Mark needs one). */
  reconstructed: boolean;
  onChoose(mode: ToolMode): void;
}

export function ToolBar({ mode, hasCloud, reconstructed, onChoose }: ToolBarProps) {
  return (
    <div className="tool-bar" data-testid="tool-bar" data-mode={mode}>
      {TOOL_MODES.map((tool) => (
        <button
          key={tool.mode}
          className={mode === tool.mode ? 'active' : undefined}
          aria-pressed={mode === tool.mode}
          title={tool.title}
          disabled={(tool.mode !== 'orbit' && !hasCloud) || (tool.mode === 'mark' && !reconstructed)}
          onClick={() => onChoose(mode === tool.mode ? 'orbit' : tool.mode)}
          data-testid={`tool-${tool.mode}`}
        >
          {tool.label}
        </button>
      ))}
    </div>
  );
}
