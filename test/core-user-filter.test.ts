import { describe, expect, it } from 'vitest';
import { DomainError } from '../src/core/errors.js';
import { checkUserFilter, MAX_FILTER_DEPTH, MAX_FILTER_TERMS } from '../src/core/users/user-filter.js';

function refusal(input: unknown): DomainError {
  try {
    checkUserFilter(input);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('the filter was accepted');
}

describe('the core user filter', () => {
  it('compares userName and email on their identity keys, as uniqueness does', () => {
    expect(checkUserFilter({ op: 'eq', attribute: 'userName', value: 'ＡＬＩＣＥ' })).toEqual({ op: 'eq', attribute: 'userName', value: 'alice' });
    expect(checkUserFilter({ op: 'sw', attribute: 'email', value: 'Straße@' })).toEqual({ op: 'sw', attribute: 'email', value: 'strasse@' });
  });

  it('keeps exact and free-text values as given', () => {
    expect(checkUserFilter({ op: 'eq', attribute: 'externalId', value: 'AbC' })).toEqual({ op: 'eq', attribute: 'externalId', value: 'AbC' });
    expect(checkUserFilter({ op: 'co', attribute: 'name.familyName', value: "O'Mal" })).toEqual({ op: 'co', attribute: 'name.familyName', value: "O'Mal" });
  });

  it('normalises instants to the form storage compares', () => {
    expect(checkUserFilter({ op: 'gt', attribute: 'updatedAt', value: '2011-05-13T04:42:34Z' })).toEqual({ op: 'gt', attribute: 'updatedAt', value: '2011-05-13T04:42:34.000Z' });
    expect(checkUserFilter({ op: 'le', attribute: 'createdAt', value: '2011-05-13T06:42:34+02:00' })).toEqual({ op: 'le', attribute: 'createdAt', value: '2011-05-13T04:42:34.000Z' });
  });

  it('checks nested trees', () => {
    const tree = { op: 'and', filters: [{ op: 'not', filter: { op: 'present', attribute: 'externalId' } }, { op: 'or', filters: [{ op: 'all' }, { op: 'none' }] }] };
    expect(checkUserFilter(tree)).toEqual(tree);
  });

  it.each([
    [{ op: 'eq', attribute: 'password', value: 'x' }, /password/],
    [{ op: 'like', attribute: 'userName', value: 'x' }, /operator/],
    [{ op: 'co', attribute: 'lockedOut', value: true }, /cannot compare/],
    [{ op: 'eq', attribute: 'lockedOut', value: 'yes' }, /true or false/],
    [{ op: 'co', attribute: 'createdAt', value: '2011' }, /cannot compare/],
    [{ op: 'gt', attribute: 'createdAt', value: 'yesterday' }, /ISO 8601/],
    [{ op: 'eq', attribute: 'userName', value: 7 }, /string/],
    [{ op: 'eq', attribute: 'userName', value: 'a\u0000b' }, /control characters/],
    [{ op: 'and', filters: 'x' }, /list/],
    [null, /not valid/],
  ])('refuses %j with INVALID_FIELD on the field "filter"', (input, message) => {
    const error = refusal(input);
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.errors[0]?.field).toBe('filter');
    expect(error.message).toMatch(message);
  });

  it('refuses a tree past its bounds', () => {
    const wide = { op: 'or', filters: Array.from({ length: MAX_FILTER_TERMS }, () => ({ op: 'all' })) };
    expect(refusal(wide).message).toMatch(/terms/);
    let deep: unknown = { op: 'all' };
    for (let i = 0; i < MAX_FILTER_DEPTH; i++) deep = { op: 'not', filter: deep };
    expect(refusal(deep).message).toMatch(/levels/);
  });
});
