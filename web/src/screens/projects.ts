// Projects and members: the projects you are in (pick one to work in), a new project, and for the chosen
// project its members; an owner changes roles, adds and removes members.

import { api } from '../api';
import { h, errorText } from '../dom';
import { navigate } from '../router';
import { session } from '../session';
import type { Member, Project, Role } from '../types';
import { write } from '../writes';

const kRoles: Role[] = ['owner', 'editor', 'viewer'];

export async function renderProjects(outlet: HTMLElement): Promise<void> {
  const status = h('p', { class: 'form-error', role: 'alert' });
  const list = h('ul', { class: 'project-list' });
  const members = h('section', { class: 'members card' });
  outlet.append(h('div', { class: 'projects-page' },
    h('section', { class: 'card' }, h('h2', {}, 'Projects'), list, newProjectForm(status, () => void load())),
    members, status));

  async function load(): Promise<void> {
    const { projects } = await api.get<{ projects: Project[] }>('/api/v1/projects');
    list.replaceChildren(...projects.map((p) => projectItem(p)));
    if (projects.length === 0) list.append(h('li', { class: 'muted' }, 'No projects yet: create one below.'));
    const chosen = projects.find((p) => p.id === session.projectId()) ?? projects[0];
    if (chosen) await showMembers(chosen);
  }

  function projectItem(project: Project): HTMLElement {
    const current = project.id === session.projectId();
    return h('li', { class: current ? 'current' : '', dataset: { projectId: String(project.id) } },
      h('button', { class: 'link', onclick: () => { session.setProjectId(project.id); navigate('#/images'); } }, project.name),
      h('span', { class: 'muted' }, ` ${project.role}`),
      project.description ? h('div', { class: 'muted small' }, project.description) : null,
      h('button', { class: 'small', onclick: () => void showMembers(project) }, 'Members'));
  }

  async function showMembers(project: Project): Promise<void> {
    try {
      const answer = await api.get<{ members: Member[] }>(`/api/v1/projects/${project.id}/members`);
      const owner = project.role === 'owner';
      const rows = answer.members.map((m) => memberRow(project, m, owner));
      const table = h('table', { class: 'members-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Member'), h('th', {}, 'Role'), h('th', {}))),
        h('tbody', {}, ...rows));
      members.replaceChildren(h('h2', {}, `Members of ${project.name}`), table);
      if (owner) members.append(addMemberForm(project));
    } catch (err) {
      status.textContent = errorText(err);
    }
  }

  function memberRow(project: Project, member: Member, owner: boolean): HTMLElement {
    const role = h('select', { disabled: !owner, 'aria-label': `role of ${member.name}` },
      ...kRoles.map((r) => h('option', { value: r, selected: r === member.role }, r)));
    role.addEventListener('change', () => void setRole(project, member.name, role.value as Role));
    const remove = owner ? h('button', { class: 'small danger', onclick: () => void removeMember(project, member.name) }, 'Remove') : null;
    return h('tr', {}, h('td', {}, member.display_name || member.name), h('td', {}, role), h('td', {}, remove));
  }

  function addMemberForm(project: Project): HTMLElement {
    const name = h('input', { placeholder: 'user name', required: true, 'aria-label': 'user name' });
    const role = h('select', { 'aria-label': 'role' }, ...kRoles.map((r) => h('option', { value: r, selected: r === 'editor' }, r)));
    const form = h('form', { class: 'inline-form' }, name, role, h('button', { type: 'submit' }, 'Add member'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void setRole(project, name.value.trim(), role.value as Role);
    });
    return form;
  }

  async function setRole(project: Project, user: string, role: Role): Promise<void> {
    status.textContent = '';
    try {
      await write({ method: 'PUT', path: `/api/v1/projects/${project.id}/members/${encodeURIComponent(user)}`, body: { role },
        label: `make ${user} ${role} of ${project.name}` });
    } catch (err) {
      status.textContent = errorText(err);
    }
    await showMembers(project);
  }

  async function removeMember(project: Project, user: string): Promise<void> {
    status.textContent = '';
    try {
      await write({ method: 'DELETE', path: `/api/v1/projects/${project.id}/members/${encodeURIComponent(user)}`,
        label: `remove ${user} from ${project.name}` });
    } catch (err) {
      status.textContent = errorText(err);
    }
    await showMembers(project);
  }

  await load();
}

function newProjectForm(status: HTMLElement, reload: () => void): HTMLElement {
  const name = h('input', { placeholder: 'name', required: true, 'aria-label': 'project name' });
  const description = h('input', { placeholder: 'description', 'aria-label': 'project description' });
  const form = h('form', { class: 'inline-form' }, name, description, h('button', { type: 'submit' }, 'Create project'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = '';
    try {
      const project = await write<Project>({ method: 'POST', path: '/api/v1/projects',
        body: { name: name.value.trim(), description: description.value }, label: `create project '${name.value.trim()}'` });
      session.setProjectId(project.id);
      name.value = '';
      description.value = '';
      reload();
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  return form;
}
