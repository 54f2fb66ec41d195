// The base styles come first: every screen's own stylesheet, imported by its component, builds on them.
import './styles/base.css';
import { createRoot } from 'react-dom/client';
import { App } from './App';

createRoot(document.getElementById('root')!).render(<App />);
