import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import { CloseIcon } from './Icons';
import './SidePanel.css';

/**
 * One tab of the side panel. The panel is a list of these, so a new one (chat, meeting log) is
 * one more entry where the room builds the list, with its toolbar button made from the same entry.
 */
export interface PanelTab {
  id: string;
  label: string;
  render: () => ReactNode;
}

export const sidePanelId = 'side-panel';

/** The side panel: tabs along the top, the chosen tab's content below, a close button. */
export function SidePanel({
  tabs,
  current,
  onSelect,
  onClose,
}: {
  tabs: PanelTab[];
  current: string;
  onSelect: (id: string) => void;
  onClose: () => void;
}) {
  const tabRefs = useRef(new Map<string, HTMLButtonElement>());
  const active = tabs.find((t) => t.id === current) ?? tabs[0];

  // Arrow keys move between tabs, as in every tab list (the WAI-ARIA tabs pattern).
  function onKeyDown(e: KeyboardEvent) {
    const i = tabs.findIndex((t) => t.id === active?.id);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    let next: PanelTab | undefined;
    if (step !== 0) next = tabs[(i + step + tabs.length) % tabs.length];
    else if (e.key === 'Home') next = tabs[0];
    else if (e.key === 'End') next = tabs.at(-1);
    if (!next) return;
    e.preventDefault();
    onSelect(next.id);
    tabRefs.current.get(next.id)?.focus();
  }

  if (!active) return null;
  return (
    <aside className="sidebar" id={sidePanelId} aria-label="Meeting details">
      <div className="sidebar-head">
        {tabs.length > 1 ? (
          <div className="tabs" role="tablist" aria-label="Meeting details" onKeyDown={onKeyDown}>
            {tabs.map((t) => (
              <button
                key={t.id}
                ref={(el) => {
                  if (el) tabRefs.current.set(t.id, el);
                  else tabRefs.current.delete(t.id);
                }}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={t.id === active.id}
                aria-controls={`tabpanel-${t.id}`}
                tabIndex={t.id === active.id ? 0 : -1}
                className="tab"
                onClick={() => onSelect(t.id)}
              >
                {t.label}
              </button>
            ))}
          </div>
        ) : (
          <span className="sidebar-title">{active.label}</span>
        )}
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close panel" title="Close panel">
          <CloseIcon />
        </button>
      </div>
      <div
        className="tabpanel"
        role={tabs.length > 1 ? 'tabpanel' : undefined}
        // Reachable by keyboard to scroll, even when everything in it is disabled (reconnecting).
        tabIndex={0}
        id={`tabpanel-${active.id}`}
        aria-labelledby={tabs.length > 1 ? `tab-${active.id}` : undefined}
      >
        {active.render()}
      </div>
    </aside>
  );
}
