// The top bar: navigation between the screens, the current project and the signed-in user with logout.

import { api } from '../api';
import { h } from '../dom';
import { navigate } from '../router';
import { session } from '../session';
import type { Project } from '../types';

export function mountTopbar(bar: HTMLElement): void {
  const render = async (): Promise<void> => {
    const user = session.user();
    if (!session.isSignedIn() || !user) {
      bar.replaceChildren(h('span', { class: 'brand' }, 'tessera'));
      return;
    }
    const projectName = h('span', { class: 'project-name' });
    const projectId = session.projectId();
    bar.replaceChildren(
      h('span', { class: 'brand' }, 'tessera'),
      h('nav', {},
        h('a', { href: '#/projects' }, 'Projects'),
        h('a', { href: '#/images' }, 'Images')),
      projectName,
      h('span', { class: 'spacer' }),
      h('span', { class: 'user-name' }, user.display_name || user.name),
      h('button', { class: 'small', onclick: () => void logout() }, 'Log out'));
    if (projectId !== null) {
      try {
        const project = await api.get<Project>(`/api/v1/projects/${projectId}`);
        projectName.textContent = project.name;
      } catch {
        projectName.textContent = '';
      }
    }
  };

  async function logout(): Promise<void> {
    try {
      await api.post('/api/v1/auth/logout');
    } catch {
      // the token is forgotten here either way
    }
    session.signOut();
    navigate('#/login');
    void render();
  }

  for (const event of ['tessera:signed-in', 'tessera:project', 'tessera:route']) {
    document.addEventListener(event, () => void render());
  }
  void render();
}
