// Settings › Authentication: the API Keys card shows how many keys exist (api-keys.md §9.1).
import { get } from './api.js';
import { showBanner } from './dialogs.js';

const badge = document.getElementById('api-key-count');
const button = document.getElementById('api-keys-button');

try {
  const count = Number(await get('/api/api-key/count'));
  if (count > 0) {
    badge.textContent = count === 1 ? '1 API Key' : `${count} API Keys`;
    badge.hidden = false;
  }
  button.textContent = count > 0 ? 'Manage' : 'Set up';
} catch (err) {
  showBanner(document.querySelector('.admin-content'), `Could not count the API keys: ${err.message}`);
  button.textContent = 'Manage';
}
button.hidden = false;
