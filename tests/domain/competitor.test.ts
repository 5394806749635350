import { describe, expect, it } from 'vitest';
import { type CompetitorEvent, competitorDecider, competitorIdFor, competitorReferences, isCompetitorName } from '../../src/domain/competitor/index.ts';
import { upcastData } from '../../src/domain/event-schemas.ts';
import { specFor } from '../support/spec.ts';

const spec = specFor(competitorDecider);
const competitorId = '0193a4c2-7f3e-7b1a-9c1d-2f4e6a8b0c11';
const added: CompetitorEvent = { type: 'CompetitorAdded', data: { competitorId, fields: { name: 'Acme Pumps', strengths: 'Price' } } };
const archived: CompetitorEvent = { type: 'CompetitorArchived', data: { competitorId } };

describe('competitor decider', () => {
  it('adds a competitor once', () => {
    spec.given([]).when({ type: 'AddCompetitor', competitorId, fields: { name: 'Acme Pumps', strengths: 'Price' } }).then([added]);
    spec.given([added]).when({ type: 'AddCompetitor', competitorId, fields: { name: 'Other' } }).thenThrows('competitor.already_exists');
  });

  it('changes only what differs; the name cannot be cleared; an unknown one is not found', () => {
    spec.given([added]).when({ type: 'ChangeCompetitor', competitorId, changes: { strengths: 'Service', name: 'Acme Pumps' } }).then([{ type: 'CompetitorChanged', data: { competitorId, changes: { strengths: 'Service' } } }]);
    spec.given([added]).when({ type: 'ChangeCompetitor', competitorId, changes: { name: 'Acme Pumps' } }).thenNothing();
    spec.given([added]).when({ type: 'ChangeCompetitor', competitorId, changes: { strengths: null } }).then([{ type: 'CompetitorChanged', data: { competitorId, changes: { strengths: null } } }]);
    spec.given([added]).when({ type: 'ChangeCompetitor', competitorId, changes: { name: null } }).thenThrows('competitor.field_required');
    spec.given([]).when({ type: 'ChangeCompetitor', competitorId, changes: { name: 'X' } }).thenThrows('competitor.not_found');
    spec.given([]).when({ type: 'ArchiveCompetitor', competitorId }).thenThrows('competitor.not_found');
    spec.given([]).when({ type: 'RestoreCompetitor', competitorId }).thenThrows('competitor.not_found');
  });

  it('archives and restores, each once; an archived one cannot be changed', () => {
    spec.given([added]).when({ type: 'ArchiveCompetitor', competitorId }).then([archived]);
    spec.given([added, archived]).when({ type: 'ArchiveCompetitor', competitorId }).thenNothing();
    spec.given([added, archived]).when({ type: 'ChangeCompetitor', competitorId, changes: { strengths: 'X' } }).thenThrows('competitor.archived');
    spec.given([added, archived]).when({ type: 'RestoreCompetitor', competitorId }).then([{ type: 'CompetitorRestored', data: { competitorId } }]);
    spec.given([added]).when({ type: 'RestoreCompetitor', competitorId }).thenNothing();
  });

  it('folds changes, archive and restore into the state', () => {
    const events: CompetitorEvent[] = [added, { type: 'CompetitorChanged', data: { competitorId, changes: { strengths: null, website: 'https://acme.example' } } }, archived];
    const state = events.reduce(competitorDecider.evolve, competitorDecider.initialState);
    expect(state).toEqual({ status: 'archived', competitorId, fields: { name: 'Acme Pumps', website: 'https://acme.example' } });
    expect(competitorDecider.evolve(state, { type: 'CompetitorRestored', data: { competitorId } }).status).toBe('active');
    expect(competitorDecider.evolve(competitorDecider.initialState, archived)).toEqual({ status: 'none' });
  });
});

describe('competitors that were free text', () => {
  it('a name gives one stable UUID (version 8), the same for names that normalise alike', () => {
    const id = competitorIdFor('Acme Pumps');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(competitorIdFor(' ACME  pumps ')).toBe(id);
    expect(competitorIdFor('Ａｃｍｅ Pumps')).toBe(id);
    expect(competitorIdFor('Acme Valves')).not.toBe(id);
    // Pinned: an id once given must never change, or old deals would lose their competitors.
    expect(id).toBe('8cea6c41-e045-8032-8fb5-e974537ced54');
    expect(competitorIdFor('德国精密泵业')).toBe('105faf0e-63ca-84c7-9180-8f76792add1d');
  });

  it('old names read as references; ids pass unchanged; duplicates once', () => {
    expect(isCompetitorName('Acme Pumps')).toBe(true);
    expect(isCompetitorName(competitorId)).toBe(false);
    expect(competitorReferences(['Acme Pumps', competitorId, 'acme pumps'])).toEqual([competitorIdFor('Acme Pumps'), competitorId]);
  });

  it('the upcast turns an old OpportunityCreated or OpportunityChanged into references, and leaves today\'s shape alone', () => {
    const old = { opportunityId: 'o', ownerId: 'u', stage: 'lead', fields: { name: 'Deal', competitors: ['Acme Pumps'] } };
    expect(upcastData('OpportunityCreated', old)).toEqual({ ...old, fields: { name: 'Deal', competitors: [competitorIdFor('Acme Pumps')] } });
    const today = { ...old, fields: { name: 'Deal', competitors: [competitorId] } };
    expect(upcastData('OpportunityCreated', today)).toEqual(today);
    expect(upcastData('OpportunityChanged', { opportunityId: 'o', changes: { competitors: ['Acme Pumps'] } })).toEqual({ opportunityId: 'o', changes: { competitors: [competitorIdFor('Acme Pumps')] } });
    expect(upcastData('OpportunityChanged', { opportunityId: 'o', changes: { competitors: null } })).toEqual({ opportunityId: 'o', changes: { competitors: null } });
    expect(upcastData('OpportunityChanged', { opportunityId: 'o', changes: { notes: 'x' } })).toEqual({ opportunityId: 'o', changes: { notes: 'x' } });
  });
});
