// Login: name and password -> POST /api/v1/auth/login; the token is kept and the user goes on to where they
// were headed (or the projects list). Shows why they are here after a forced logout ("session expired").

import { api, ApiError } from '../api';
import { h, errorText } from '../dom';
import { navigate, type RouteParams } from '../router';
import { session, type LoginAnswer } from '../session';
import { replayQueue } from '../writes';

export function renderLogin(outlet: HTMLElement, params: RouteParams): void {
  const notice = session.loginMessage();
  const name = h('input', { name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { class: 'login-form card' },
    h('h1', {}, 'tessera'),
    notice ? h('p', { class: 'login-notice', role: 'alert' }, notice) : null,
    h('label', {}, 'Name', name),
    h('label', {}, 'Password', password),
    submit,
    error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      const answer = await api.post<LoginAnswer>('/api/v1/auth/login', { name: name.value, password: password.value }, { noAuthRedirect: true });
      session.signIn(answer);
      document.dispatchEvent(new CustomEvent('tessera:signed-in'));
      void replayQueue();  // edits queued before the session expired go out now
      navigate(params.next ?? '#/projects');
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong name or password.' : errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  outlet.append(h('div', { class: 'login-page' }, form));
}
