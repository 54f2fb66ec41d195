import type { ReactNode } from 'react';
import './Toolbar.css';

/**
 * One button of the meeting's toolbar. The toolbar is a list of these, so a new control (share
 * screen, raise hand, chat, layout) is one more entry where the room builds the list.
 */
export interface ToolbarItem {
  id: string;
  /** The accessible name; the visible text where the item shows one. */
  label: string;
  icon: ReactNode;
  onClick: () => void;
  /** Shown as the tooltip (e.g. with the keyboard shortcut); defaults to the label. */
  title?: string | undefined;
  keyShortcuts?: string | undefined;
  /** A switch that is on (pressed) or off; undefined for a plain button. */
  pressed?: boolean | undefined;
  /** Shown filled, as an open panel's button is, without being a switch (e.g. a raised hand). */
  active?: boolean | undefined;
  /** For an item opening a panel: whether it is open, and the panel's id. */
  expanded?: boolean | undefined;
  controls?: string | undefined;
  /** Red: a device that is off, or leaving. */
  tone?: 'normal' | 'off' | 'danger';
  disabled?: boolean | undefined;
  /** A small number over the button (e.g. how many people); decorative, the panel says it too. */
  badge?: number | undefined;
  /** A few words beside the button (e.g. "The host muted you"), linked as its description. */
  caption?: ReactNode;
  /** Shows the label as text beside the icon (wide screens only). */
  showLabel?: boolean;
}

/** The element id of an item's button, for focusing it. */
export function toolId(id: string): string {
  return `tool-${id}`;
}

function ToolbarButton({ item }: { item: ToolbarItem }) {
  const captionId = item.caption ? `${item.id}-caption` : undefined;
  const tone = item.tone ?? 'normal';
  return (
    <span className="toolbar-slot">
      <button
        id={toolId(item.id)}
        type="button"
        className={`tool ${tone}${item.showLabel ? ' labelled' : ''}${item.expanded || item.pressed || item.active ? ' open' : ''}`}
        onClick={item.onClick}
        disabled={item.disabled}
        aria-label={item.label}
        aria-pressed={item.pressed}
        aria-expanded={item.expanded}
        aria-controls={item.expanded ? item.controls : undefined}
        aria-keyshortcuts={item.keyShortcuts}
        aria-describedby={captionId}
        title={item.title ?? item.label}
      >
        {item.icon}
        {item.showLabel && (
          <span className="tool-label" aria-hidden="true">
            {item.label}
          </span>
        )}
      </button>
      {item.badge !== undefined && (
        <span className="tool-badge" aria-hidden="true">
          {item.badge}
        </span>
      )}
      {item.caption && (
        <span id={captionId} className="tool-caption">
          {item.caption}
        </span>
      )}
    </span>
  );
}

/** The row of controls at the bottom of the meeting: own devices and actions, then the panels. */
export function Toolbar({ main, panels }: { main: ToolbarItem[]; panels: ToolbarItem[] }) {
  return (
    <>
      <div className="toolbar-main">
        {main.map((item) => (
          <ToolbarButton key={item.id} item={item} />
        ))}
      </div>
      <div className="toolbar-panels">
        {panels.map((item) => (
          <ToolbarButton key={item.id} item={item} />
        ))}
      </div>
    </>
  );
}
