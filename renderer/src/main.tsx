import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectStudio } from './api/pick-transport';
import { App } from './App';
import { StudioProvider } from './common/studio-context';
import './styles.css';

const client = connectStudio();

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <StudioProvider client={client}>
      <App />
    </StudioProvider>
  </StrictMode>,
);
