import { describe, expect, it } from 'vitest';
import { mcpEndpoint, parseToolResult } from '../../controller/src/shadow/index.js';

describe('parseToolResult', () => {
  it('prefers structuredContent', () => {
    expect(parseToolResult({ structuredContent: { a: 1 }, content: [{ type: 'text', text: 'ignored' }] })).toEqual({ a: 1 });
  });

  it('parses JSON text, keeps other text, and unwraps a single item', () => {
    expect(parseToolResult({ content: [{ type: 'text', text: '{"tasks":[1]}' }] })).toEqual({ tasks: [1] });
    expect(parseToolResult({ content: [{ type: 'text', text: 'plain words' }] })).toBe('plain words');
    expect(parseToolResult({ content: [] })).toBeNull();
    expect(parseToolResult({})).toBeNull();
  });

  it('keeps every item of a multi-part answer, non-text items as sent', () => {
    const image = { type: 'image', data: 'aGk=', mimeType: 'image/png' };
    expect(parseToolResult({ content: [{ type: 'text', text: '[1,2]' }, image] })).toEqual([[1, 2], image]);
  });
});

describe('mcpEndpoint', () => {
  it('adds /mcp to a bare origin and keeps any other path', () => {
    expect(mcpEndpoint('http://127.0.0.1:4100').href).toBe('http://127.0.0.1:4100/mcp');
    expect(mcpEndpoint('http://127.0.0.1:4100/').href).toBe('http://127.0.0.1:4100/mcp');
    expect(mcpEndpoint('http://127.0.0.1:4100/api/mcp').href).toBe('http://127.0.0.1:4100/api/mcp');
  });
});
