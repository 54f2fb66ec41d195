// The base styles come first: every screen's own stylesheet, imported by its component, builds on them.
import './styles/base.css';
import { createRoot } from 'react-dom/client';
import { App } from './App';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(<App />);
