export const path = '/api/items';
