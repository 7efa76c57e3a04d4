// The form's own logic (UI-1): three decimals (AP-3), route rows (AP-7), upload checks (AP-4, AP-8, AP-9),
// the API's field violations, drafts kept in the browser.
import { describe, expect, it } from 'vitest'
import {
  addRow, camelPath, decimalProblem, destinationWarning, fieldMessages, fileProblem, fromThousandths, loadLocal,
  MAX_UPLOAD_BYTES, messageFor, padThree, removeRow, roadsFromText, rowProblems, saveLocal, toThousandths,
} from './form'

describe('three decimals (AP-3)', () => {
  it('pads values with fewer than three decimals with zeros', () => {
    expect(padThree('12.5')).toBe('12.500')
    expect(padThree('12')).toBe('12.000')
    expect(padThree('0.25')).toBe('0.250')
    expect(padThree('3.125')).toBe('3.125')
    expect(padThree('12.')).toBe('12.000')
  })
  it('leaves what is not a number as typed, for the message to name it', () => {
    expect(padThree('abc')).toBe('abc')
    expect(padThree('1.2345')).toBe('1.2345')
  })
  it('converts tonnes and metres to integer kg and mm, exactly', () => {
    expect(toThousandths('30.5')).toBe(30500)
    expect(toThousandths('0.001')).toBe(1)
    expect(toThousandths('4.1')).toBe(4100)
    expect(toThousandths('-1')).toBeNull()
    expect(toThousandths('1.2345')).toBeNull()
    expect(fromThousandths(30500)).toBe('30.500')
    expect(fromThousandths('4100')).toBe('4.100')
    expect(fromThousandths(7)).toBe('0.007')
    expect(fromThousandths(undefined)).toBe('')
  })
  it('says in Chinese why a value is refused', () => {
    expect(decimalProblem('', '货物重量')).toBe('请填写货物重量')
    expect(decimalProblem('1.2345', '货物重量')).toBe('货物重量最多保留三位小数')
    expect(decimalProblem('十吨', '货物重量')).toBe('货物重量应为数字')
    expect(decimalProblem('12.5', '货物重量')).toBe('')
  })
})

describe('route rows (AP-7)', () => {
  const rows = [{ province: '130000', roads: ['G4'] }, { province: '370000', roads: ['G2'] }]
  it('adds a row after the one asked and removes one, leaving the input untouched', () => {
    const added = addRow(rows, 0)
    expect(added.map((r) => r.province)).toEqual(['130000', '', '370000'])
    expect(rows).toHaveLength(2)
    expect(addRow([], -1)).toEqual([{ province: '', roads: [] }])
    expect(removeRow(added, 1)).toEqual(rows)
  })
  it('warns when the last row is not the destination province (AP-7a)', () => {
    const name = (c: string) => ({ '130000': '河北省', '370000': '山东省', '320000': '江苏省' })[c] ?? c
    expect(destinationWarning(rows, '370000', name)).toBe('')
    expect(destinationWarning(rows, '320000', name)).toContain('最后一行省份（山东省）不是终点省份（江苏省）')
    expect(destinationWarning([{ province: '', roads: [] }], '320000')).toBe('')
  })
  it('splits roads typed with hyphens or other separators', () => {
    expect(roadsFromText('g4-G1811')).toEqual(['G4', 'G1811'])
    expect(roadsFromText('G2、G3，S1 ')).toEqual(['G2', 'G3', 'S1'])
    expect(roadsFromText('')).toEqual([])
  })
  it('names each incomplete row', () => {
    expect(rowProblems([{ province: '', roads: ['G1'] }, { province: '110000', roads: [] }, rows[0]]))
      .toEqual(['请选择省份', '请填写该省路线', ''])
  })
})

describe('upload checks before sending (AP-4, AP-8, AP-9)', () => {
  it('refuses a file over 1 MB before it is sent', () => {
    expect(fileProblem({ name: 'a.jpg', size: MAX_UPLOAD_BYTES + 1, type: 'image/jpeg' }, 'image')).toContain('超过 1MB')
    expect(fileProblem({ name: 'a.jpg', size: MAX_UPLOAD_BYTES, type: 'image/jpeg' }, 'image')).toBe('')
  })
  it('takes images for photos and doc/docx/pdf for plans only', () => {
    expect(fileProblem({ name: 'a.gif', size: 10, type: 'image/gif' }, 'image')).toContain('jpg、png')
    expect(fileProblem({ name: 'plan.pdf', size: 10, type: 'application/pdf' }, 'image')).not.toBe('')
    expect(fileProblem({ name: 'plan.docx', size: 10 }, 'plan')).toBe('')
    expect(fileProblem({ name: 'plan.xls', size: 10 }, 'plan')).not.toBe('')
    expect(fileProblem({ name: 'empty.png', size: 0, type: 'image/png' }, 'image')).toBe('文件为空，请重新选择')
  })
})

describe('API errors next to the named field', () => {
  const err = { status: 400, message: '货物信息有误', reason: 'INVALID', fieldViolations: [
    { field: 'cargo.weight_kg', description: '货物重量必须大于0', reason: 'CARGO_WEIGHT_INVALID' },
    { field: 'vehicles[1].plate_number', description: '车牌号码格式不正确' }] }
  it('maps snake_case paths to the form fields', () => {
    expect(camelPath('vehicles[1].plate_number')).toBe('vehicles[1].plateNumber')
    const m = fieldMessages(err)
    expect(m['cargo.weightKg']).toBe('货物重量必须大于0')
    expect(messageFor(m, 'vehicles[1].plateNumber')).toBe('车牌号码格式不正确')
    expect(messageFor(m, 'cargo')).toBe('货物重量必须大于0')
    expect(messageFor(m, 'agent')).toBe('')
  })
  it('uses the error metadata field when there are no violations', () => {
    const m = fieldMessages({ status: 400, message: '请选择经办人', reason: 'X', fieldViolations: [], metadata: { field: 'agent.agent_ref' } })
    expect(m).toEqual({ 'agent.agentRef': '请选择经办人' })
  })
})

describe('drafts survive a reload', () => {
  it('keeps a value in local storage and reads it back', () => {
    saveLocal('t1', { step: 3, form: { cargo: { weight: '12.500' } } })
    expect(loadLocal<{ step: number }>('t1')?.step).toBe(3)
    expect(loadLocal('missing')).toBeNull()
  })
})
